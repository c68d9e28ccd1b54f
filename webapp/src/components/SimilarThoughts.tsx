import { useState } from "react";
import {
  NOTHING_REPORTED,
  REPORT_REASONS,
  isReportReason,
  similarityText,
  visibleSimilar,
  withReport,
  type ReportReason,
} from "../lib/sharing";
import type { SimilarThought } from "../lib/types";
import { ChoiceForm } from "./ChoiceForm";

interface Props {
  thoughts: SimilarThought[];
  onReport: (thoughtId: string, reason: ReportReason) => Promise<void>;
}

/** "Others felt this too": thoughts other people shared with the same emotion, closest first.
 * After a report the thank-you stays, even when the thought (or the whole list) is gone. */
export function SimilarThoughts({ thoughts, onReport }: Props) {
  const [reported, setReported] = useState(NOTHING_REPORTED);
  const visible = visibleSimilar(thoughts, reported);
  if (visible.length === 0 && reported.ids.size === 0) return null;

  const report = async (thought: SimilarThought, reason: ReportReason) => {
    await onReport(thought.id, reason);
    setReported((r) => withReport(r, thought));
  };

  return (
    <section className="similar" data-testid="similar" aria-label="Others felt this too">
      <h3 className="similar-title">Others felt this too</h3>
      {visible.length > 0 && (
        <ul className="similar-list">
          {visible.map((t) => (
            <SimilarItem key={t.id} thought={t} onReport={(reason) => report(t, reason)} />
          ))}
        </ul>
      )}
      {reported.ids.size > 0 && (
        <p className="similar-thanks" role="status" data-testid="report-thanks">
          Thank you for reporting. Reported thoughts are hidden from everyone once several people report them.
        </p>
      )}
    </section>
  );
}

function SimilarItem({ thought, onReport }: { thought: SimilarThought; onReport: (reason: ReportReason) => Promise<void> }) {
  const [open, setOpen] = useState(false);
  return (
    <li className="similar-item" data-testid="similar-thought" data-thought-id={thought.id}>
      <blockquote className="similar-text" title={similarityText(thought.score)}>
        {thought.text}
      </blockquote>
      {!open ? (
        <button type="button" className="btn-link similar-report" data-testid="report-open" onClick={() => setOpen(true)}>
          Report
        </button>
      ) : (
        <ChoiceForm
          name="Report this thought"
          label="Why?"
          options={REPORT_REASONS}
          isValid={isReportReason}
          onSubmit={async (reason) => {
            if (isReportReason(reason)) await onReport(reason);
          }}
          onCancel={() => setOpen(false)}
          failure="Could not send the report."
          testIds={{ select: "report-reason", submit: "report-submit" }}
        />
      )}
    </li>
  );
}
