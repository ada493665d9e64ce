import Link from 'next/link';

/** Previous / next links for an offset-paged list; `href(offset)` builds each page's URL. */
export function Pager({ total, limit, offset, href }: { total: number; limit: number; offset: number; href: (offset: number) => string }) {
  if (total <= limit && offset === 0) return null;
  const last = Math.min(total, offset + limit);
  return (
    <nav className="pager" aria-label="Pages">
      {offset > 0 ? <Link href={href(Math.max(0, offset - limit))}>← Previous</Link> : <span />}
      <span>
        {total === 0 ? 0 : offset + 1}–{last} of {total}
      </span>
      {last < total ? <Link href={href(offset + limit)}>Next →</Link> : <span />}
    </nav>
  );
}
