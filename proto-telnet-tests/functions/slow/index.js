// Outlives its 1 s timeout, so errors.txt can check the "Task timed out" reply.
exports.handler = function () {
  return new Promise((resolve) => setTimeout(() => resolve("too late"), 30000));
};
