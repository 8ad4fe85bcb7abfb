// The key-file parser inside ssh2, imported on its own so that code reading key files (every
// function that touches the key store) does not bundle ssh2's client, server and protocol.
declare module "ssh2/lib/protocol/keyParser.js" {
  import type { ParsedKey } from "ssh2";

  const keyParser: {
    parseKey(data: string | Buffer, passphrase?: string | Buffer): ParsedKey | Error;
  };
  export default keyParser;
}
