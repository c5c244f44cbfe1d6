// Resolve a WebFinger resource with Fedify's client (what Fedify-based
// fediverse servers use) and print the JRD as JSON, or "null".
//   node webfinger-lookup.mjs acct:alice@localhost:8443
// The throwaway CA is trusted through NODE_EXTRA_CA_CERTS; test servers
// listen on loopback, so private addresses are allowed.
import { lookupWebFinger } from "@fedify/webfinger";

const jrd = await lookupWebFinger(process.argv[2], { allowPrivateAddress: true });
process.stdout.write(JSON.stringify(jrd) + "\n");
