// Runs the partner app's client (check.ts) against a live server seeded with demo-data:
// the printed client credentials get a token, and the token reads grants, because the
// document says an app with `grants:read` may. Compiled with tsc and run with node by
// .ci/schemathesis.sh.
import { allGrants, appToken } from "./check";

declare const process: {
  env: Record<string, string | undefined>;
  exit(code: number): never;
};

async function main(): Promise<void> {
  const base = process.env.BASE ?? "";
  const id = process.env.CLIENT_ID ?? "";
  const secret = process.env.CLIENT_SECRET ?? "";
  const token = await appToken(base, id, secret);
  const grants = await allGrants(base, token);
  if (grants.length === 0) {
    console.error("the partner app's token read no grants");
    process.exit(1);
  }
  console.log(`the partner app read ${grants.length} grant(s) through the generated TypeScript client`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
