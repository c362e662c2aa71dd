/** Small helpers for the fake HTTP servers of the tests (API servers, k6 runners, proxies). */
import type { IncomingMessage } from 'node:http';

/** The whole body of a request, as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => resolve(text));
  });
}
