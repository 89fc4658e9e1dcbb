#!/usr/bin/env node
// expect-line: 10
// expect: input PORT: unknown key 'Default Value'
// expect-hint: Did you mean 'Default'?
// ---
// RightScript Name: Node App
// Inputs:
//   PORT:
//     Input Type: single
//     Default Value: text:80
// ...
console.log(process.env.PORT);
