// Product identity for the SIEM formats (OCSF metadata.product, CEF header, ECS observer).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../config/config.js';

export const PRODUCT_NAME = 'authwatch';
export const PRODUCT_VENDOR = 'authwatch';
export const PRODUCT_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
