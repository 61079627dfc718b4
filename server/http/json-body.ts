/**
 * The body of a JSON API request as an object, or null when it is not valid JSON or not an object
 * (the routes answer 400 with what they expected). Bodies are bounded before they get here.
 */
export async function readJsonObject(request: Request): Promise<Record<string, unknown> | null> {
  try {
    const body: unknown = await request.json();
    return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
