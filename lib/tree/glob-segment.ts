/** One path segment of a data set pattern, compiled: `literal` when it has no wildcard. */
export interface GlobSegment {
  text: string;
  re: RegExp;
  literal: string | null;
}

/**
 * sh-like matching of one segment: `*` and `?` within it, `[...]` classes (`[!x]`, `[^x]`
 * negate). A wildcard never matches a leading dot unless `dot` (or the pattern itself starts
 * with one), as the runbook's bash globs did. The one matcher of data set patterns: restore
 * scopes, real-time state files and no-follow expansion all use it.
 */
export function compileGlobSegment(text: string, options: { dot?: boolean } = {}): GlobSegment {
  let source = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const end = c === '[' ? text.indexOf(']', i + 2) : -1;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (end > i) {
      const body = text.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      source += `[${negate ? '^' : ''}${(negate ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const literal = /[*?[]/.test(text) ? null : text;
  const guard = options.dot || text.startsWith('.') ? '' : '(?!\\.)';
  return { text, re: new RegExp(`^${guard}${source}$`), literal };
}
