import { CLOSE, COLON, OPEN, type PhpBytes, QUOTE, SEMICOLON } from './php-bytes.js';
import { isPhpClassName } from './php-metadata.js';
import { PhpEnum, PhpSerializable } from './php-values.js';

const CASE_NAME = /^[A-Za-z0-9_\u0080-\u{10FFFF}]+$/u;

/** `:len:"Name":` of `O:` and `C:`, checked as PHP checks class names. */
export function readClassName(bytes: PhpBytes): string {
  const at = bytes.pos;
  bytes.expect(COLON);
  const length = bytes.lengthThenColon('class name length');
  bytes.expect(QUOTE);
  const name = bytes.bytesUpTo(length, QUOTE, 'the class name');
  bytes.expect(COLON);
  if (!isPhpClassName(name)) bytes.fail('not a valid PHP class name', at);
  return name;
}

/** What follows `C`: `:len:"Name":len:{data}`, a Serializable object's own data kept as it is. */
export function readSerializable(bytes: PhpBytes): PhpSerializable {
  const className = readClassName(bytes);
  const length = bytes.lengthThenColon('Serializable data length');
  bytes.expect(OPEN);
  return new PhpSerializable(className, bytes.bytesUpTo(length, CLOSE, 'the Serializable data'));
}

/** What follows `E`: `:len:"Class:Case";`, an enum case. */
export function readEnumCase(bytes: PhpBytes): PhpEnum {
  const at = bytes.pos - 1;
  bytes.expect(COLON);
  const name = bytes.string();
  bytes.expect(SEMICOLON);
  const colon = name.indexOf(':');
  const className = name.slice(0, colon);
  const caseName = name.slice(colon + 1);
  if (colon < 0 || !isPhpClassName(className) || !CASE_NAME.test(caseName)) {
    bytes.fail('expected an enum case "Class:Case" after "E:"', at);
  }
  return new PhpEnum(className, caseName);
}
