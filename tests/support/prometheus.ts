/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), to check what
 * /api/metrics serves. The npm parsers at hand accept malformed lines silently, so this one
 * follows the format's grammar and throws on the first line that breaks it:
 *
 *   # HELP <name> <text>          at most once per family, before its samples
 *   # TYPE <name> <type>          at most once per family, before its samples
 *   <name>[{<label>="<value>",…}] <float> [<timestamp ms>]
 *
 * Samples of a family are contiguous; a histogram's `_bucket`/`_sum`/`_count` (a summary's
 * quantiles, `_sum`, `_count`) belong to their family; no series appears twice.
 */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
// Go's strconv.ParseFloat, which Prometheus uses: NaN and Inf in any letter case (prom-client prints "Nan").
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)|[nN][aA][nN])';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*)\\})? (${VALUE})(?: (-?\\d+))?$`);
const LABEL_PAIR = new RegExp(`(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`, 'g');
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type: string;
  samples: (Sample & { name: string })[];
}

function familyOf(sample: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = sample.slice(0, -suffix.length);
    if (sample.endsWith(suffix) && ['histogram', 'summary'].includes(families.get(base)?.type ?? '')) return base;
  }
  return sample;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    const get = (name: string) => {
      if (closed.has(name)) throw new Error(`${where}: family ${name} is not contiguous`);
      let family = families.get(name);
      if (!family) families.set(name, (family = { name, type: 'untyped', samples: [] }));
      if (current !== undefined && current !== name) closed.add(current);
      current = name;
      return family;
    };
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
    if (meta) {
      const family = get(meta[2]!);
      if (family.samples.length > 0) throw new Error(`${where}: ${meta[1]} after samples`);
      if (meta[1] === 'HELP') {
        if (family.help !== undefined) throw new Error(`${where}: second HELP`);
        family.help = meta[3]!;
      } else {
        if (!TYPES.has(meta[3]!)) throw new Error(`${where}: unknown type`);
        family.type = meta[3]!;
      }
      return;
    }
    if (line === '' || line.startsWith('#')) return; // an empty line or a comment
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`${where}: not a sample`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL_PAIR)) {
      if (key! in labels) throw new Error(`${where}: label ${key} twice`);
      labels[key!] = raw!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const id = `${match[1]}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(id)) throw new Error(`${where}: series repeated`);
    series.add(id);
    const raw = match[3]!;
    const value = /^[+-]?inf/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(raw) ? NaN : Number(raw);
    get(familyOf(match[1]!, families)).samples.push({ name: match[1]!, labels, value });
  });
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`, or undefined. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    const sample = family.samples.find(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    if (sample) return sample.value;
  }
  return undefined;
}
