#!/usr/bin/env node
// ---
// RightScript Name: Configure App
// Description: Writes the application configuration file from the inputs.
// Inputs:
//   APP_PORT:
//     Category: Application
//     Description: TCP port the application listens on.
//     Input Type: single
//     Required: true
//     Advanced: false
//     Default: text:8080
//   LOG_LEVEL:
//     Category: Application
//     Input Type: single
//     Required: false
//     Advanced: true
//     Default: text:info
//     Possible Values:
//     - text:debug
//     - text:info
//     - text:warn
//   DB_HOST:
//     Category: Database
//     Description: Private address of the database server, from the deployment.
//     Input Type: single
//     Required: true
//     Advanced: false
//     Default: env:db1:PRIVATE_IP
// Attachments: []
// ...
const fs = require("fs");
const config = {port: Number(process.env.APP_PORT), level: process.env.LOG_LEVEL, db: process.env.DB_HOST};
fs.writeFileSync("/etc/app.json", JSON.stringify(config));
