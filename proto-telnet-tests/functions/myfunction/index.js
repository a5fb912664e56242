// The 2016 session's function, written as a Lambda of that era would have been.
exports.myHandler = function (event, context) {
  context.succeed("hello");
};
