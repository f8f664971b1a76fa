#!/usr/bin/env node
import { main } from './index.js';

const code = await main(process.argv.slice(2));
// Exit explicitly: tfjs backends can keep handles open after the work is done.
process.exit(code);
