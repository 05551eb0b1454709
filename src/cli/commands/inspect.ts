import type { SerializerName } from '../../options/options.js';
import type { Command } from '../command.js';
import { ExitCodes } from '../exit-codes.js';
import { helpFlag, jsonFlag, storeFlags, storeOptions, stringFlag, usageError } from '../flags.js';
import { withStore } from '../open.js';

export const inspect: Command = {
  name: 'inspect',
  summary: "one session's metadata and data, by id (or --key: by stored key)",
  usage: 'ID [options]',
  description: [
    'Shows one session: its server, times (by the database\'s clock), accesses, addresses, custom field, error counters, size, and its data decoded with --serializer (a row that does not decode is shown as stored, with the error). ID is the session id as the cookie carries it (signed cookies: the part before the dot, without "s:"); with --key, ID is the stored key that ids() and the table show (its SHA-256 with hashIds). Exit code 1 when there is no such session.',
  ].join('\n\n'),
  flags: {
    key: { type: 'boolean', description: 'ID is a stored key, not a session id' },
    serializer: {
      type: 'string',
      value: 'NAME',
      description:
        'json (default), php, php_serialize or php_binary, as the application stores data',
    },
    ...storeFlags,
    ...jsonFlag,
    ...helpFlag,
  },
  examples: ['session-pgsql inspect --key 3f2a...e1 --json'],
  async run(parsed, { out, env }) {
    const [id, ...extra] = parsed.positionals;
    if (id === undefined || extra.length > 0) throw usageError('inspect takes one ID');
    const options = storeOptions(parsed, env);
    const serializer = stringFlag(parsed, 'serializer');
    if (serializer !== undefined) options.serializer = serializer as SerializerName;
    const byKey = parsed.values.key === true;
    const found = await withStore(options, (store) => store.inspect(id, { byKey }));
    if (found === undefined) {
      out.note(`no session with that ${byKey ? 'key' : 'id'}`);
      out.result(null);
      return ExitCodes.FAILURE;
    }
    const { data, raw, decodeError, ...metadata } = found;
    const shown = {
      ...metadata,
      server: `${metadata.server.index} (${metadata.server.connection})`,
    };
    for (const [name, value] of Object.entries(shown)) {
      out.line(
        `${name.padEnd(16)}${value instanceof Date ? value.toISOString() : String(value ?? '-')}`,
      );
    }
    if (decodeError) out.line(`raw             ${raw}\ndecode error    ${decodeError.message}`);
    else
      out.line(
        `data            ${JSON.stringify(data, null, 2).replaceAll('\n', '\n                ')}`,
      );
    out.result(
      decodeError
        ? {
            ...metadata,
            raw,
            decodeError: { code: decodeError.code, message: decodeError.message },
          }
        : { ...metadata, data },
    );
    return ExitCodes.OK;
  },
};
