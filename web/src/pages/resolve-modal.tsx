import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Checkbox from "@cloudscape-design/components/checkbox";
import FileUpload from "@cloudscape-design/components/file-upload";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table, { type TableProps } from "@cloudscape-design/components/table";
import Tiles from "@cloudscape-design/components/tiles";
import { useState } from "react";
import { ApiError, api, messageOf } from "../api/client.ts";
import type { Device, ResolveRequest, ResolveStarted } from "../api/types.ts";
import { AuthStatusIndicator } from "../components/display.tsx";
import { ResolveProgress, type StartedRun } from "./resolve-progress.tsx";

type Mode = "space-key" | "custom-key";

interface Row {
  device: Device;
  adminUser: string;
  loginUser: string;
  password: string;
}

/** POSIX user names as useradd takes them (the API checks again). */
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/;
/** The API takes secrets of up to 64 KiB. */
const MAX_KEY_BYTES = 65_536;

interface Problems {
  rows: Record<string, { adminUser?: string; loginUser?: string; password?: string }>;
  privateKey?: string;
  passphrase?: string;
  form?: string;
}

function checkRows(rows: readonly Row[], mode: Mode, samePassword: string | null): Problems {
  const problems: Problems = { rows: {} };
  for (const row of rows) {
    const p: Problems["rows"][string] = {};
    if (!row.adminUser.trim()) p.adminUser = "Enter the admin user.";
    else if (!USER_NAME.test(row.adminUser.trim())) {
      p.adminUser = "Use a user name such as admin or ec2-user: lower-case letters, digits, _ . -";
    }
    if (mode === "space-key") {
      if (row.loginUser.trim() && !USER_NAME.test(row.loginUser.trim())) {
        p.loginUser = "Use a user name such as root or admin.";
      }
      if (samePassword === null && !row.password) p.password = "Enter the password.";
    }
    if (Object.keys(p).length > 0) problems.rows[row.device.id] = p;
  }
  if (mode === "space-key" && samePassword !== null && !samePassword) {
    problems.form = "Enter the password for the devices.";
  }
  return problems;
}

function hasProblems(p: Problems): boolean {
  return Boolean(p.form || p.privateKey || p.passphrase || Object.keys(p.rows).length > 0);
}

/** `devices[2].adminUser` from the API → the device and the field it names. */
function rowProblemFromApi(error: ApiError, request: ResolveRequest): Problems | undefined {
  const match = /^devices\[(\d+)\]\.(\w+)$/.exec(error.field ?? "");
  const device = match ? request.devices[Number(match[1])] : undefined;
  if (!match || !device) return undefined;
  return { rows: { [device.id]: { [match[2] as string]: error.message } } };
}

/**
 * The Junos "Resolve Key Conflict" action: Space key (admin user and password per device) or
 * custom key (one private key, its passphrase, admin user per device), then the runs' progress.
 */
export function ResolveModal({ devices, onClose }: { devices: Device[]; onClose: () => void }) {
  const [mode, setMode] = useState<Mode>("space-key");
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

  const update = (id: string, change: Partial<Row>) =>
    setRows((list) => list.map((r) => (r.device.id === id ? { ...r, ...change } : r)));

  async function submit() {
    const shared = mode === "space-key" && oneForAll && rows.length > 1 ? sharedPassword : null;
    const found = checkRows(rows, mode, shared);
    let privateKey = "";
    if (mode === "custom-key") {
      const file = files[0];
      if (!file) found.privateKey = "Choose the private key file.";
      else if (file.size > MAX_KEY_BYTES) {
        found.privateKey = `${file.name} is ${file.size} bytes; a private key file is at most 64 KiB. Choose the key itself, not an archive.`;
      } else {
        privateKey = await file.text();
        if (!privateKey.includes("PRIVATE KEY")) {
          found.privateKey = `${file.name} holds no private key (no "PRIVATE KEY" block). Choose the private half, not the .pub file.`;
        }
      }
    }
    setProblems(found);
    if (hasProblems(found)) return;

    // One request for the whole form, one job: each device carries its own password unless one
    // serves them all.
    const request: ResolveRequest =
      mode === "space-key"
        ? {
            mode,
            ...(shared !== null ? { password: shared } : {}),
            devices: rows.map((r) => ({
              id: r.device.id,
              adminUser: r.adminUser.trim(),
              ...(r.loginUser.trim() ? { loginUser: r.loginUser.trim() } : {}),
              ...(shared === null ? { password: r.password } : {}),
            })),
          }
        : {
            mode,
            privateKey,
            ...(passphrase ? { passphrase } : {}),
            ...(adopt ? { adopt: true } : {}),
            devices: rows.map((r) => ({ id: r.device.id, adminUser: r.adminUser.trim() })),
          };

    setSubmitting(true);
    try {
      const answer = await api<ResolveStarted>("POST", "/devices/resolve", request);
      setStarted({
        runs: answer.runs.map((run) => ({ ...run, jobId: answer.jobId ?? null })),
        jobIds: answer.jobId ? [answer.jobId] : [],
      });
    } catch (error) {
      if (error instanceof ApiError) {
        const rowProblem = rowProblemFromApi(error, request);
        if (rowProblem) return setProblems(rowProblem);
        if (error.field === "privateKey" || error.field === "passphrase") {
          return setProblems({ rows: {}, [error.field]: error.message });
        }
      }
      setProblems({ rows: {}, form: messageOf(error) });
    } finally {
      setSubmitting(false);
    }
  }

  const rowColumns: TableProps.ColumnDefinition<Row>[] = [
    {
      id: "device",
      header: "Device",
      isRowHeader: true,
      cell: (r) => (
        <div>
          <Box fontWeight="bold">{r.device.id}</Box>
          <Box variant="small" color="text-body-secondary">
            {r.device.host}:{r.device.port}
          </Box>
        </div>
      ),
    },
    {
      id: "status",
      header: "Auth status",
      cell: (r) => <AuthStatusIndicator status={r.device.status} />,
    },
    {
      id: "adminUser",
      header: "Device admin",
      cell: (r) => (
        <FormField errorText={problems.rows[r.device.id]?.adminUser} stretch>
          <Input
            value={r.adminUser}
            onChange={({ detail }) => update(r.device.id, { adminUser: detail.value })}
            ariaLabel={`Admin user for ${r.device.id}`}
            ariaRequired
            autoComplete={false}
            invalid={Boolean(problems.rows[r.device.id]?.adminUser)}
          />
        </FormField>
      ),
    },
  ];
  if (mode === "space-key") {
    rowColumns.push({
      id: "loginUser",
      header: "Log in as (optional)",
      cell: (r) => (
        <FormField errorText={problems.rows[r.device.id]?.loginUser} stretch>
          <Input
            value={r.loginUser}
            placeholder="the admin user"
            onChange={({ detail }) => update(r.device.id, { loginUser: detail.value })}
            ariaLabel={`Log in as for ${r.device.id}`}
            autoComplete={false}
            invalid={Boolean(problems.rows[r.device.id]?.loginUser)}
          />
        </FormField>
      ),
    });
    if (!(oneForAll && rows.length > 1)) {
      rowColumns.push({
        id: "password",
        header: "Password",
        cell: (r) => (
          <FormField errorText={problems.rows[r.device.id]?.password} stretch>
            <Input
              type="password"
              value={r.password}
              onChange={({ detail }) => update(r.device.id, { password: detail.value })}
              ariaLabel={`Password for ${r.device.id}`}
              ariaRequired
              autoComplete="off"
              invalid={Boolean(problems.rows[r.device.id]?.password)}
            />
          </FormField>
        ),
      });
    }
  }

  const unpinned = rows.filter((r) => !r.device.hostKeyFingerprint).map((r) => r.device.id);
  const header = started ? "Resolving key conflicts" : "Resolve key conflict";
  const running = started !== null;

  return (
    <Modal
      visible
      size="large"
      onDismiss={onClose}
      closeAriaLabel="Close resolve key conflict"
      header={header}
      footer={
        running ? (
          <Box float="right">
            <Button variant="primary" onClick={onClose}>
              Close
            </Button>
          </Box>
        ) : (
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={onClose} disabled={submitting}>
                Cancel
              </Button>
              <Button
                variant="primary"
                loading={submitting}
                loadingText="Starting the runs"
                onClick={() => void submit()}
              >
                Resolve
              </Button>
            </SpaceBetween>
          </Box>
        )
      }
    >
      {started ? (
        <ResolveProgress runs={started.runs} jobIds={started.jobIds} mode={mode} />
      ) : (
        <Form errorText={problems.form}>
          <SpaceBetween size="l">
            <FormField label="How to log in" stretch>
              <Tiles
                value={mode}
                onChange={({ detail }) => {
                  setMode(detail.value as Mode);
                  setProblems({ rows: {} });
                }}
                ariaLabel="How to log in"
                items={[
                  {
                    value: "space-key",
                    label: "Use Space key",
                    description:
                      "Log in with the admin password, create the admin user when it is missing, and install keyheal's platform key. The devices end key based.",
                  },
                  {
                    value: "custom-key",
                    label: "Use custom key",
                    description:
                      "Log in with your own private key, then install the platform key, or keep your key as the devices' credential.",
                  },
                ]}
              />
            </FormField>
            {mode === "custom-key" ? (
              <SpaceBetween size="m">
                <FormField
                  label="Private key"
                  description="The private key the devices accept. It is read in this browser, sent once to the runtime, kept in its secret store for 15 minutes at most, and never shown again."
                  constraintText="OpenSSH or PEM; ed25519, RSA of 2048 bits or more, or ECDSA."
                  errorText={problems.privateKey}
                >
                  <FileUpload
                    value={files}
                    onChange={({ detail }) => {
                      setFiles(detail.value);
                      setProblems((p) => ({ ...p, privateKey: undefined }));
                    }}
                    showFileSize
                    i18nStrings={{
                      uploadButtonText: () => "Choose file",
                      dropzoneText: () => "Drop the private key file here",
                      removeFileAriaLabel: (_i, name) => `Remove ${name}`,
                      limitShowFewer: "Show fewer files",
                      limitShowMore: "Show more files",
                      errorIconAriaLabel: "Error",
                      warningIconAriaLabel: "Warning",
                      formatFileSize: (bytes) => `${bytes} bytes`,
                    }}
                  />
                </FormField>
                <FormField
                  label={
                    <>
                      Passphrase <i>- optional</i>
                    </>
                  }
                  description="The passphrase set when the key was generated; leave empty for a key without one."
                  errorText={problems.passphrase}
                >
                  <Input
                    type="password"
                    value={passphrase}
                    onChange={({ detail }) => setPassphrase(detail.value)}
                    ariaLabel="Passphrase"
                    autoComplete="off"
                  />
                </FormField>
                <Checkbox
                  checked={adopt}
                  onChange={({ detail }) => setAdopt(detail.checked)}
                  description="The devices end custom key based; keyheal does not install its platform key on them."
                >
                  Keep this key as the devices' credential
                </Checkbox>
              </SpaceBetween>
            ) : (
              <SpaceBetween size="m">
                <Box variant="p" color="text-body-secondary">
                  Passwords go to the runtime's secret store for 15 minutes at most and each run
                  forgets its copy; they never appear in runs, logs or failure records. To create a
                  missing admin user, log in as root or a user that may sudo, with that user's
                  password.
                </Box>
                {unpinned.length > 0 ? (
                  <Alert type="warning" header="Host key not pinned">
                    keyheal sends a password only to a device whose host key it has pinned, and{" "}
                    {unpinned.join(", ")} {unpinned.length === 1 ? "has" : "have"} none yet. Give
                    the host-key fingerprint in the inventory, let a key-based check pin it, or use
                    a custom key.
                  </Alert>
                ) : null}
                {rows.length > 1 ? (
                  <Checkbox
                    checked={oneForAll}
                    onChange={({ detail }) => setOneForAll(detail.checked)}
                  >
                    Use the same password for every device
                  </Checkbox>
                ) : null}
                {oneForAll && rows.length > 1 ? (
                  <FormField label="Password (all devices)">
                    <Input
                      type="password"
                      value={sharedPassword}
                      onChange={({ detail }) => setSharedPassword(detail.value)}
                      ariaLabel="Password (all devices)"
                      autoComplete="off"
                    />
                  </FormField>
                ) : null}
              </SpaceBetween>
            )}
            <Table<Row>
              variant="embedded"
              items={rows}
              trackBy={(r) => r.device.id}
              columnDefinitions={rowColumns}
              ariaLabels={{ tableLabel: "Devices to resolve" }}
              header={
                <Header variant="h3" counter={`(${rows.length})`}>
                  Devices to resolve
                </Header>
              }
            />
          </SpaceBetween>
        </Form>
      )}
    </Modal>
  );
}
