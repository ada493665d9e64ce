import type { ReactNode } from 'react';

/** A table that scrolls inside its own box on narrow screens; `headers` are column headings. */
export function Table({ label, headers, children }: { label?: string; headers: ReactNode[]; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            {headers.map((header, i) => (
              <th key={i} scope="col">
                {header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
