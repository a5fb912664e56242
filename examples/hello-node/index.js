// The seed's function (2016): an AWS Lambda handler, unmodified, answering "hello".
exports.myHandler = function(event, context) {
  context.succeed('hello');
};
