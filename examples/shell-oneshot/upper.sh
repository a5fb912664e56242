#!/bin/sh
# A one-shot exec function: the sidecar starts one process per invocation with the event on stdin
# and replies with whatever it writes to stdout. This one upper-cases its input.
exec tr '[:lower:]' '[:upper:]'
