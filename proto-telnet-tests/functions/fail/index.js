// Always throws, so errors.txt can check the Lambda-shaped error reply.
exports.handler = async function () {
  throw new TypeError("boom from fail.lambda");
};
