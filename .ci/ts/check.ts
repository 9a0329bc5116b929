// A partner app's view of the contract: types generated from openapi/openapi.json by
// openapi-typescript, used the way a client would, compiled with `tsc --strict --noEmit`.
// If the document stops describing these operations this file stops compiling.
import type { paths, components } from "./generated/api";

type GrantPage =
  paths["/api/v1/grants"]["get"]["responses"]["200"]["content"]["application/json"];
type Grant = GrantPage["data"][number];
type Problem = components["schemas"]["Problem"];
type TokenForm = NonNullable<
  paths["/api/v1/auth/token"]["post"]["requestBody"]
>["content"]["application/x-www-form-urlencoded"];

// A partner app gets a token with its client credentials ...
export async function appToken(base: string, id: string, secret: string): Promise<string> {
  const form: TokenForm = {
    grant_type: "client_credentials",
    client_id: id,
    client_secret: secret,
  } as TokenForm;
  const res = await fetch(`${base}/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form as Record<string, string>).toString(),
  });
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

// ... and reads grants with it, following `next_cursor`.
export async function allGrants(base: string, token: string): Promise<Grant[]> {
  const out: Grant[] = [];
  let cursor: string | null | undefined = undefined;
  do {
    const url: string = `${base}/api/v1/grants${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`;
    const res: Response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) {
      const problem = (await res.json()) as Problem;
      throw new Error(`${problem.status} ${problem.title}: ${problem.detail}`);
    }
    const page = (await res.json()) as GrantPage;
    out.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

// A member's tool uploads a report file and downloads it again.
type Document = components["schemas"]["Document"];
type UploadForm = NonNullable<
  paths["/api/v1/{parents}/{id}/documents"]["post"]["requestBody"]
>["content"]["multipart/form-data"];

export async function uploadReportFile(
  base: string,
  token: string,
  reportId: string,
  file: Blob,
  name: string,
): Promise<Document> {
  const kind: UploadForm["kind"] = "report_file";
  const form = new FormData();
  form.append("kind", kind);
  form.append("file", file, name);
  const res = await fetch(`${base}/api/v1/reports/${encodeURIComponent(reportId)}/documents`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  if (res.status !== 201) {
    const problem = (await res.json()) as Problem;
    throw new Error(`${problem.status} ${problem.title}: ${problem.detail}`);
  }
  return (await res.json()) as Document;
}

export async function downloadDocument(base: string, token: string, doc: Document): Promise<Blob> {
  const res = await fetch(`${base}/api/v1/documents/${encodeURIComponent(doc.id)}/content`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`download failed: ${res.status}`);
  return await res.blob();
}
