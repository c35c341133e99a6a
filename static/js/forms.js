// Forms that start a run (deploy, destroy, plan, approve, redeploy) post once.
// A double click on a button that starts a run submits its form twice. The server starts one run
// and refuses the other as busy, but the browser shows the answer to the last POST: the
// refusal, on the plan page, instead of the run the first POST started. So such a form
// posts once (listened on the document: the plan's form arrives with the refreshed summary).
function submitOnce(event) {
  const form = event.target;
  if (!form.matches("form[data-submit-once]")) return;
  if (form.dataset.submitted) event.preventDefault();
  form.dataset.submitted = "true";
}

// Back from the run page, the back-forward cache restores the form as it was: submitted.
function forgetSubmissions(event) {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form[data-submitted]")) delete form.dataset.submitted;
}

document.addEventListener("submit", submitOnce);
window.addEventListener("pageshow", forgetSubmissions);
