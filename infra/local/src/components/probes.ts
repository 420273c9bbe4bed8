/** GETs a URL with a short timeout; true when it answers 2xx and the body passes `check`. */
export async function httpOk(url: string, check: (body: string) => boolean = () => true): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_500) });
    return response.ok && check(await response.text());
  } catch {
    return false;
  }
}
