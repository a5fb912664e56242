-- wrk script: POST a small JSON body, the same size natsfn-bench sends on the direct NATS path.
wrk.method = "POST"
wrk.body = os.getenv("HTTP_BENCH_BODY") or "0123456789abcdef"
wrk.headers["Content-Type"] = "application/json"
