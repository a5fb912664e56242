# An AWS Lambda Python handler, unmodified: echoes the event back with who answered.
def handler(event, context):
    return {"echo": event, "function": context.function_name, "request_id": context.aws_request_id}
