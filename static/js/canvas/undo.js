// Undo: each change the user makes pushes the step that takes it back. Steps name links
// by their two ends, not their ids, so a link recreated by an earlier undo is still found.

const LIMIT = 100;

export function createUndo(onChange) {
  const steps = [];
  let busy = false;
  return {
    push(label, revert) {
      steps.push({ label, revert });
      if (steps.length > LIMIT) steps.shift();
      onChange(steps.length);
    },
    clear() {
      steps.length = 0;
      onChange(0);
    },
    get size() {
      return steps.length;
    },
    async undo() {
      if (busy || !steps.length) return null;
      busy = true;
      const step = steps.pop();
      onChange(steps.length);
      try {
        await step.revert();
        return step.label;
      } finally {
        busy = false;
      }
    },
  };
}
