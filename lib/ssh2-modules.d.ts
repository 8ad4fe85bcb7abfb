// Modules inside ssh2, imported on their own so that each bundle carries only what it runs.
// The key-file parser: code reading key files (every function that touches the key store)
// does not bundle ssh2's client, server and protocol.
declare module "ssh2/lib/protocol/keyParser.js" {
  import type { ParsedKey } from "ssh2";

  const keyParser: {
    parseKey(data: string | Buffer, passphrase?: string | Buffer): ParsedKey | Error;
  };
  export default keyParser;
}

// ssh2's client on its own: a function that opens SSH sessions needs neither ssh2's server nor
// its key generator nor its HTTP agents, which `ssh2`'s index would bundle with it.
declare module "ssh2/lib/client.js" {
  import type { Client } from "ssh2";

  const ClientClass: typeof Client;
  export default ClientClass;
}
