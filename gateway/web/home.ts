// A minimal page until the web UI lands: sign up, sign in, and show who is signed in (legacy routes).
export const homePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>filestore</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px system-ui;max-width:28rem;margin:3rem auto;padding:0 1rem}input,button{font:inherit;display:block;margin:.4rem 0;width:100%}#out{white-space:pre-wrap}</style>
</head><body>
<h1>filestore</h1>
<form id="f"><input name="username" placeholder="username" autocomplete="username" required>
<input name="password" type="password" placeholder="password (8+ characters)" autocomplete="current-password" required>
<button name="op" value="signin">Sign in</button><button name="op" value="signup">Sign up</button></form>
<p id="out"></p>
<script>
const out = document.getElementById("out");
document.getElementById("f").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = new URLSearchParams(new FormData(e.target));
  const op = e.submitter.value;
  const res = await (await fetch("/user/" + op, { method: "POST", body })).json();
  if (op === "signup") { out.textContent = res.code === 10000 ? "Signed up: now sign in." : res.msg; return; }
  if (res.code !== 10000) { out.textContent = res.msg; return; }
  localStorage.setItem("token", res.data.Token);
  localStorage.setItem("username", res.data.Username);
  const info = await (await fetch("/user/info", { method: "POST",
    body: new URLSearchParams({ username: res.data.Username, token: res.data.Token }) })).json();
  out.textContent = "Signed in as " + info.data.Username + " (since " + info.data.SignupAt + " UTC)";
});
</script></body></html>`;
