"use client";

import { useEffect, useRef, useState, type HTMLAttributes, type TdHTMLAttributes, type ThHTMLAttributes } from "react";
import { cn } from "../lib/utils.js";

/** Whether the element's content is wider than it, and whether more of it lies to the right. */
function useHorizontalOverflow() {
  const ref = useRef<HTMLDivElement>(null);
  const [state, setState] = useState({ scrollable: false, moreRight: false });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const scrollable = el.scrollWidth > el.clientWidth + 1;
      const moreRight = scrollable && el.scrollLeft + el.clientWidth < el.scrollWidth - 1;
      setState((prev) => (prev.scrollable === scrollable && prev.moreRight === moreRight ? prev : { scrollable, moreRight }));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    if (el.firstElementChild) observer.observe(el.firstElementChild);
    el.addEventListener("scroll", measure, { passive: true });
    return () => {
      observer.disconnect();
      el.removeEventListener("scroll", measure);
    };
  }, []);
  return { ref, ...state };
}

/**
 * Scrolls sideways on narrow screens instead of squeezing columns, and says
 * so: a hint under the table and a fade on the edge where more columns hide.
 * The scrolling region can be focused and scrolled with the arrow keys.
 */
export function Table({ className, ...props }: HTMLAttributes<HTMLTableElement>) {
  const { ref, scrollable, moreRight } = useHorizontalOverflow();
  return (
    <div className="w-full">
      <div className="relative">
        <div
          ref={ref}
          // relative: absolutely placed content (a screen-reader-only label) stays inside the scrolling box instead of widening the page.
          className="relative w-full overflow-x-auto focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
          data-scrollable={scrollable}
          {...(scrollable ? { tabIndex: 0, role: "region", "aria-label": "Table, scrolls sideways" } : {})}
        >
          <table className={cn("w-full caption-bottom text-sm", className)} {...props} />
        </div>
        {moreRight && <div aria-hidden="true" className="pointer-events-none absolute inset-y-0 right-0 w-10 bg-gradient-to-l from-card to-transparent" />}
      </div>
      {scrollable && (
        <p className="mt-1 text-xs text-muted-foreground" data-testid="scroll-hint">
          Scroll sideways for more columns →
        </p>
      )}
    </div>
  );
}

export function TableHeader({ className, ...props }: HTMLAttributes<HTMLTableSectionElement>) {
  return <thead className={cn("[&_tr]:border-b", className)} {...props} />;
}

export function TableBody({ className, ...props }: HTMLAttributes<HTMLTableSectionElement>) {
  return <tbody className={cn("[&_tr:last-child]:border-0", className)} {...props} />;
}

export function TableRow({ className, ...props }: HTMLAttributes<HTMLTableRowElement>) {
  return <tr className={cn("border-b transition-colors hover:bg-muted/50 data-[selected=true]:bg-muted", className)} {...props} />;
}

export function TableHead({ className, ...props }: ThHTMLAttributes<HTMLTableCellElement>) {
  return <th scope="col" className={cn("h-10 px-2 text-left align-middle font-medium text-muted-foreground", className)} {...props} />;
}

export function TableCell({ className, ...props }: TdHTMLAttributes<HTMLTableCellElement>) {
  return <td className={cn("p-2 align-middle", className)} {...props} />;
}

export function TableCaption({ className, ...props }: HTMLAttributes<HTMLTableCaptionElement>) {
  return <caption className={cn("mt-3 text-sm text-muted-foreground", className)} {...props} />;
}
