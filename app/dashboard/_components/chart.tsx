/** A bar chart in plain SVG (no client JavaScript): counts over time, with an accessible summary. */
export interface ChartPoint {
  label: string;
  count: number;
}

export function BarChart({ title, points, unit }: { title: string; points: ChartPoint[]; unit: string }) {
  const max = Math.max(1, ...points.map((p) => p.count));
  const total = points.reduce((sum, p) => sum + p.count, 0);
  const width = 600;
  const height = 120;
  const step = width / Math.max(1, points.length);
  const summary = `${title}: ${total} ${unit} in all, at most ${max} in one interval`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height + 16}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <title>{summary}</title>
        <line x1="0" y1={height} x2={width} y2={height} className="chart-axis" />
        {points.map((p, i) => {
          const h = (p.count / max) * (height - 4);
          return (
            <rect key={p.label} x={i * step + 1} y={height - h} width={Math.max(1, step - 2)} height={h} className="chart-bar">
              <title>{`${p.label}: ${p.count}`}</title>
            </rect>
          );
        })}
        {points.length > 0 && (
          <>
            <text x="0" y={height + 14} className="chart-label">
              {points[0]!.label}
            </text>
            <text x={width} y={height + 14} textAnchor="end" className="chart-label">
              {points.at(-1)!.label}
            </text>
          </>
        )}
      </svg>
      <figcaption>
        {title} — {total} {unit}
      </figcaption>
    </figure>
  );
}
