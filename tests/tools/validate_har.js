// Validates HAR files against the HAR 1.2 schema (npm har-validator); exits 1 with the
// schema's errors when one is not valid. Usage: node validate_har.js FILE...
'use strict';
const fs = require('fs');
const validate = require('har-validator');

(async () => {
  let failed = 0;
  for (const file of process.argv.slice(2)) {
    try {
      await validate.har(JSON.parse(fs.readFileSync(file, 'utf8')));
    } catch (e) {
      failed++;
      console.error(`${file}: ${e.message} ${JSON.stringify(e.errors || [])}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
