/** Longest version label, in characters. */
export const MAX_VERSION_LABEL_CHARS = 200;

/** Why `label` cannot name a version (a non-empty string without control characters, bounded), or null. */
export function versionLabelProblem(label: unknown): string | null {
  if (typeof label !== 'string') return 'label must be a string';
  const trimmed = label.trim();
  if (trimmed === '') return 'label must not be empty';
  if ([...trimmed].length > MAX_VERSION_LABEL_CHARS) return `label must be at most ${MAX_VERSION_LABEL_CHARS} characters`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) return 'label must not contain control characters';
  return null;
}
