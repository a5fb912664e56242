#!/bin/sh
# One-shot echo: the event arrives on stdin and the result leaves on stdout. cat copies bytes
# verbatim, which is what the binary payloads in echo.txt check.
exec cat
