/**
 * PHP's session data formats (`session.serialize_handler`), so that Node and PHP
 * applications can share sessions: `php` (PHP's default), `php_serialize` and
 * `php_binary`. Values use PHP's serialize() format; see the README's "PHP session
 * formats" for how PHP values read in JavaScript and are written back.
 */
import { metaOf } from './php-metadata.js';
import { PhpReader } from './php-reader.js';
import { PhpEnum, PhpSerializable } from './php-values.js';
import { orderedKeys, PhpWriter, phpByteLength } from './php-writer.js';
import type { Serializer } from './serializer.js';

/** A session in a PHP format: `$_SESSION`, its keys the session's variable names. */
export type PhpSession = Record<string, unknown>;

/** Longest session name `php_binary` can hold: its length is one byte, the high bit unused. */
const MAX_BINARY_NAME_BYTES = 127;

function sessionObject(data: unknown, format: string): PhpSession {
  if (
    typeof data !== 'object' ||
    data === null ||
    data instanceof PhpEnum ||
    data instanceof PhpSerializable
  ) {
    throw new Error(
      `${format} session data must be an object of session variables, got ${data === null ? 'null' : typeof data}`,
    );
  }
  return data as PhpSession;
}

/** Writes the session's variables one by one, as PHP's `php` and `php_binary` handlers do. */
function writeVariables(
  data: unknown,
  format: string,
  variable: (name: string, value: string) => string,
): string {
  const session = sessionObject(data, format);
  const meta = metaOf(session);
  const writer = new PhpWriter();
  let text = '';
  for (const name of orderedKeys(session, meta?.order)) {
    const value = writer.value(session[name], session, name, meta, false);
    if (value !== undefined) text += variable(name, value);
  }
  return text;
}

/**
 * PHP's default format (`session.serialize_handler = php`): `name|value` for each
 * session variable. A name cannot contain `|` (PHP refuses to write one too).
 */
export const phpSerializer: Serializer<PhpSession> = Object.freeze({
  stringify: (data: PhpSession): string =>
    writeVariables(data, 'php', (name, value) => {
      phpByteLength(name, 'a session name');
      if (name.includes('|')) {
        throw new Error(
          `the session name ${JSON.stringify(name)} contains "|", which the php format cannot hold (PHP cannot write it either); use php_serialize`,
        );
      }
      return `${name}|${value}`;
    }),
  parse: (text: string): PhpSession => {
    const reader = new PhpReader(text, 'php session data');
    const session = reader.session();
    while (!reader.atEnd) reader.entry(session, reader.nameBeforeBar());
    return reader.finish(session);
  },
});

/**
 * `session.serialize_handler = php_serialize`: the whole session as one serialize()d
 * array. Session variables may have any name, integers included.
 */
export const phpSerializeSerializer: Serializer<PhpSession> = Object.freeze({
  stringify: (data: PhpSession): string =>
    new PhpWriter().sessionArray(sessionObject(data, 'php_serialize')),
  parse: (text: string): PhpSession => {
    const reader = new PhpReader(text, 'php_serialize session data');
    return reader.atEnd ? {} : reader.sessionArray();
  },
});

/**
 * `session.serialize_handler = php_binary`: for each session variable a byte with the
 * length of its name, the name, then the value. A name longer than 127 bytes is an
 * error (PHP leaves such a variable out without a word).
 */
export const phpBinarySerializer: Serializer<PhpSession> = Object.freeze({
  stringify: (data: PhpSession): string =>
    writeVariables(data, 'php_binary', (name, value) => {
      const length = phpByteLength(name, 'a session name');
      if (length > MAX_BINARY_NAME_BYTES) {
        throw new Error(
          `the session name ${JSON.stringify(name.slice(0, 20))}... is ${length} bytes, more than the ${MAX_BINARY_NAME_BYTES} that php_binary can hold (PHP leaves such a variable out silently); use php_serialize`,
        );
      }
      return `${String.fromCharCode(length)}${name}${value}`;
    }),
  parse: (text: string): PhpSession => {
    const reader = new PhpReader(text, 'php_binary session data');
    const session = reader.session();
    while (!reader.atEnd) reader.entry(session, reader.lengthPrefixedName());
    return reader.finish(session);
  },
});
