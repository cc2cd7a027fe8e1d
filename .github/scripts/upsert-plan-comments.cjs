// Posts one PR comment per stack plan summary, or updates the bot's earlier
// comment for that stack (found by its `<!-- plan-summary:<stack> -->` marker).
const fs = require('node:fs');
const path = require('node:path');

module.exports = async function upsertPlanComments({ github, context, directory }) {
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const existing = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
  for (const file of fs
    .readdirSync(directory)
    .filter((name) => name.endsWith('.md'))
    .sort()) {
    const body = fs.readFileSync(path.join(directory, file), 'utf8');
    const marker = body.split('\n')[0];
    if (!marker.startsWith('<!-- plan-summary:')) throw new Error(`${file} has no plan-summary marker`);
    const mine = existing.find((comment) => comment.user.type === 'Bot' && comment.body.startsWith(marker));
    if (mine) await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
    else await github.rest.issues.createComment({ owner, repo, issue_number, body });
  }
};
