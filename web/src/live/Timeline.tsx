// A camera's recording timeline: recorded spans and gaps over a window
// from a day down to a minute, the play cursor, click or drag to scrub.
import { useRef } from 'react';

export interface Span {
  start: string;
  end: string;
  cause?: string;
}

const W = 1000;
const H = 30;

/** Tick spacing (ms) for a window of the given width: about 6–12 ticks. */
function tickStep(width: number): number {
  const steps = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600].map((s) => s * 1000);
  return steps.find((s) => width / s <= 12) ?? 6 * 3600 * 1000;
}

function label(ms: number, step: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return step < 60000 ? `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` : `${p(d.getHours())}:${p(d.getMinutes())}`;
}

export default function Timeline(props: { from: number; to: number; spans: Span[]; gaps: Span[]; cursor: number | null; onSeek: (ms: number) => void; testid: string }) {
  const svg = useRef<SVGSVGElement>(null);
  const { from, to } = props;
  const width = to - from;
  const x = (ms: number) => Math.max(0, Math.min(W, ((ms - from) / width) * W));
  const at = (clientX: number) => {
    const r = svg.current!.getBoundingClientRect();
    return from + ((clientX - r.left) / r.width) * width;
  };
  const step = tickStep(width);
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  const bar = (s: Span, cls: string, fill: string, i: number) => {
    const a = Date.parse(s.start);
    const b = Date.parse(s.end);
    if (b < from || a > to) return null;
    return <rect key={`${cls}${i}`} className={cls} x={x(a)} y={4} width={Math.max(1, x(b) - x(a))} height={14} fill={fill} data-start={s.start} data-end={s.end} />;
  };
  return (
    <svg
      ref={svg}
      className="timeline"
      viewBox={`0 0 ${W} ${H}`}
      preserveAspectRatio="none"
      height={H}
      data-testid={props.testid}
      data-from={new Date(from).toISOString()}
      data-to={new Date(to).toISOString()}
      onMouseDown={(e) => props.onSeek(at(e.clientX))}
      onMouseMove={(e) => {
        if (e.buttons === 1) props.onSeek(at(e.clientX));
      }}
    >
      <rect x={0} y={4} width={W} height={14} fill="#e8ecf2" />
      {props.gaps.map((g, i) => bar(g, 'gap', '#f5c6c6', i))}
      {props.spans.map((s, i) => bar(s, 'span', '#3f7fc4', i))}
      {ticks.map((t) => (
        <g key={t}>
          <line x1={x(t)} x2={x(t)} y1={18} y2={22} stroke="#8a94a6" vectorEffect="non-scaling-stroke" />
          <text x={x(t) + 2} y={29} fontSize={8} fill="#5b6576">{label(t, step)}</text>
        </g>
      ))}
      {props.cursor !== null && props.cursor >= from && props.cursor <= to && (
        <line x1={x(props.cursor)} x2={x(props.cursor)} y1={0} y2={H} stroke="#cf1322" strokeWidth={2} vectorEffect="non-scaling-stroke" data-testid={`${props.testid}-cursor`} />
      )}
    </svg>
  );
}
