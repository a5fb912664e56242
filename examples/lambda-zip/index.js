// A Node Lambda with a dependency in node_modules, shipped as the .zip AWS takes.
const greeting = require('greeting');

exports.handler = async (event) => ({ message: greeting.greet(event && event.name) });
