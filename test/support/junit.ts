/** Reads back the JUnit XML that `loadtest verdict --junit` and `loadtest run --junit` write. */
import { readFileSync } from 'node:fs';
import { DOMParser, type Element } from '@xmldom/xmldom';

type Attrs = Record<string, string>;
/** A parsed JUnit file: attributes of each element, the testsuites with their properties and testcases. */
export interface ParsedJunit {
  readonly root: Attrs;
  readonly suites: (Attrs & {
    properties: Record<string, string | null>;
    cases: (Attrs & { failures: (Attrs & { text: string | null })[]; errors: Attrs[] })[];
  })[];
}

/** The testsuites of a JUnit file, each with its attributes and testcases (a parse error fails the test). */
export function parseJunit(file: string): ParsedJunit {
  const doc = new DOMParser({
    onError: (level, msg) => {
      throw new Error(`${level}: ${msg}`);
    },
  }).parseFromString(readFileSync(file, 'utf8'), 'text/xml');
  const attrsOf = (e: Element): Attrs => Object.fromEntries(Array.from(e.attributes).map((a) => [a.name, a.value]));
  const children = (e: Element, tag: string) =>
    Array.from(e.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).tagName === tag);
  const rootEl = doc.documentElement!;
  // Attributes flattened beside the children, so expectations read like the XML.
  const testcase = (c: Element) =>
    Object.assign(attrsOf(c), {
      failures: children(c, 'failure').map((f) => Object.assign(attrsOf(f), { text: f.textContent })),
      errors: children(c, 'error').map(attrsOf),
    });
  const suite = (s: Element) =>
    Object.assign(attrsOf(s), {
      properties: Object.fromEntries(
        children(children(s, 'properties')[0]!, 'property').map((p) => [p.getAttribute('name'), p.getAttribute('value')]),
      ),
      cases: children(s, 'testcase').map(testcase),
    });
  return { root: { tag: rootEl.tagName, ...attrsOf(rootEl) }, suites: children(rootEl, 'testsuite').map(suite) } as ParsedJunit;
}
