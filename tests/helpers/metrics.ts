/** Reads one sample from a Prometheus text exposition (first match, labels given as in the text). */
export async function metric(httpUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `) || candidate.startsWith(`${name}${labels}{`));
  if (!line) throw new Error(`metric ${name}${labels} not found`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}
