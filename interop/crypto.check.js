#!/usr/bin/env node
// scripts/test runs interop/*.check.js; the crypto interop check lives in crypto.js.
'use strict';
require('./crypto.js');
