// Two Lambda styles from before async/await, unmodified.

// The callback style: callback(error, result).
exports.handler = function (event, context, callback) {
  const name = (event && event.name) || 'world';
  setTimeout(() => callback(null, { greeting: 'hello ' + name }), 1);
};

// The 2016 style: context.succeed / context.fail.
exports.legacy = function (event, context) {
  if (event && event.fail) return context.fail(new Error('asked to fail'));
  context.succeed('hello from context.succeed');
};
