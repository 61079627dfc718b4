/** Reads one sample from a Prometheus text exposition (first match, labels given as in the text). */
export async function metric(httpUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `) || candidate.startsWith(`${name}${labels}{`));
  if (!line) throw new Error(`metric ${name}${labels} not found`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * A counter sample that may not be exposed yet: prom-client shows a labelled series only once it
 * was incremented, so a counter nothing has counted yet reads as 0 here (instead of throwing).
 */
export async function counter(httpUrl: string, name: string, labels = ''): Promise<number> {
  try {
    return await metric(httpUrl, name, labels);
  } catch (error) {
    if ((error as Error).message === `metric ${name}${labels} not found`) return 0;
    throw error;
  }
}
