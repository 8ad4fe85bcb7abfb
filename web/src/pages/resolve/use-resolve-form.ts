import { useState } from "react";
import { ApiError, api, messageOf } from "../../api/client.ts";
import type { Device, ResolveStarted } from "../../api/types.ts";
import type { StartedRun } from "../resolve-progress.tsx";
import {
  buildRequest,
  checkRows,
  hasProblems,
  type Mode,
  type Problems,
  problemsFromApi,
  type Row,
  readPrivateKeyFile,
} from "./form-checks.ts";

/**
 * The resolve form's state and its submission: checked here first, then one POST
 * /devices/resolve; the API's refusal lands on the field it names.
 */
export function useResolveForm(devices: Device[]) {
  const [mode, setModeState] = useState<Mode>("space-key");
  const [rows, setRows] = useState<Row[]>(() =>
    devices.map((device) => ({ device, adminUser: device.adminUser, loginUser: "", password: "" })),
  );
  const [oneForAll, setOneForAll] = useState(false);
  const [sharedPassword, setSharedPassword] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [passphrase, setPassphrase] = useState("");
  const [adopt, setAdopt] = useState(false);
  const [problems, setProblems] = useState<Problems>({ rows: {} });
  const [submitting, setSubmitting] = useState(false);
  const [started, setStarted] = useState<{ runs: StartedRun[]; jobIds: string[] } | null>(null);

  /** One password for every device: chosen, and there is more than one. */
  const shareOne = oneForAll && rows.length > 1;

  function setMode(next: Mode) {
    setModeState(next);
    setProblems({ rows: {} });
  }

  function updateRow(id: string, change: Partial<Row>) {
    setRows((list) => list.map((r) => (r.device.id === id ? { ...r, ...change } : r)));
  }

  function chooseFiles(next: File[]) {
    setFiles(next);
    setProblems((p) => ({ ...p, privateKey: undefined }));
  }

  async function submit() {
    const shared = mode === "space-key" && shareOne ? sharedPassword : null;
    const found = checkRows(rows, mode, shared);
    let privateKey = "";
    if (mode === "custom-key") {
      const read = await readPrivateKeyFile(files[0]);
      if ("problem" in read) found.privateKey = read.problem;
      else privateKey = read.privateKey;
    }
    setProblems(found);
    if (hasProblems(found)) return;

    const request = buildRequest(
      rows,
      mode === "space-key" ? { mode, shared } : { mode, privateKey, passphrase, adopt },
    );
    setSubmitting(true);
    try {
      const answer = await api<ResolveStarted>("POST", "/devices/resolve", request);
      setStarted({
        runs: answer.runs.map((run) => ({ ...run, jobId: answer.jobId ?? null })),
        jobIds: answer.jobId ? [answer.jobId] : [],
      });
    } catch (error) {
      const onField = error instanceof ApiError ? problemsFromApi(error, request) : undefined;
      setProblems(onField ?? { rows: {}, form: messageOf(error) });
    } finally {
      setSubmitting(false);
    }
  }

  return {
    mode,
    setMode,
    rows,
    updateRow,
    oneForAll,
    setOneForAll,
    shareOne,
    sharedPassword,
    setSharedPassword,
    files,
    chooseFiles,
    passphrase,
    setPassphrase,
    adopt,
    setAdopt,
    problems,
    submitting,
    started,
    submit,
  };
}

export type ResolveForm = ReturnType<typeof useResolveForm>;
