// Test helper: `promtool check metrics` on an exposition text (Debian's prometheus package; .ci/run
// installs it). Exit code 0 and no output: valid, and no lint complaints.
export async function promtoolCheckMetrics(text: string): Promise<{ code: number; output: string }> {
  const p = Bun.spawn(["promtool", "check", "metrics"], {
    stdin: new Blob([text]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, output: (out + err).trim() };
}
