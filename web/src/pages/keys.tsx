import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import CopyToClipboard from "@cloudscape-design/components/copy-to-clipboard";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Modal from "@cloudscape-design/components/modal";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator, {
  type StatusIndicatorProps,
} from "@cloudscape-design/components/status-indicator";
import Table, { type TableProps } from "@cloudscape-design/components/table";
import { useCallback, useState } from "react";
import { api, messageOf, query } from "../api/client.ts";
import {
  KEY_TYPES,
  type KeyGeneration,
  type KeyType,
  type Page,
  type RotateRequest,
} from "../api/types.ts";
import { Mono, Time } from "../components/display.tsx";
import { EmptyState, ErrorAlert, LoadFailedState } from "../components/states.tsx";
import { usePoll } from "../hooks/use-poll.ts";
import { RotationProgress } from "./rotation-progress.tsx";

const REFRESH_MS = 5000;
/** The rotation this tab started, so its progress survives a visit to another page. */
const ROTATION_KEY = "keyheal.rotationRunId";

const KEY_STATUS: Record<
  KeyGeneration["status"],
  { label: string; type: StatusIndicatorProps.Type; title: string }
> = {
  CURRENT: {
    label: "Current",
    type: "success",
    title: "The key keyheal installs and logs in with.",
  },
  PREVIOUS: {
    label: "Previous",
    type: "info",
    title: "Still accepted for healing devices that hold it.",
  },
  RETIRED: { label: "Retired", type: "stopped", title: "No device holds it; no longer used." },
};

const TYPE_LABELS: Record<KeyType, string> = {
  ed25519: "ed25519 (recommended)",
  rsa: "RSA",
  ecdsa: "ECDSA",
};

const columns: TableProps.ColumnDefinition<KeyGeneration>[] = [
  {
    id: "generation",
    header: "Generation",
    isRowHeader: true,
    cell: (k) => <Box fontWeight="bold">Generation {k.generation}</Box>,
  },
  {
    id: "status",
    header: "Status",
    cell: (k) => (
      <span title={KEY_STATUS[k.status]?.title}>
        <StatusIndicator type={KEY_STATUS[k.status]?.type ?? "info"}>
          {KEY_STATUS[k.status]?.label ?? k.status}
        </StatusIndicator>
      </span>
    ),
  },
  { id: "algorithm", header: "Algorithm", cell: (k) => k.algorithm },
  { id: "fingerprint", header: "Fingerprint", cell: (k) => <Mono>{k.fingerprint}</Mono> },
  { id: "created", header: "Created", cell: (k) => <Time iso={k.createdAt} /> },
  {
    id: "publicKey",
    header: "Public key",
    cell: (k) => (
      <CopyToClipboard
        variant="inline"
        textToDisplay="authorized_keys line"
        textToCopy={k.publicKey}
        copyButtonAriaLabel={`Copy the public key of generation ${k.generation}`}
        copySuccessText="Public key copied"
        copyErrorText="Could not copy the public key"
      />
    ),
  },
];

export function KeysPage() {
  const [type, setType] = useState<KeyType>("ed25519");
  const [confirming, setConfirming] = useState(false);
  // Devices installed at once; empty leaves the choice to the runtime (docs/scale.md).
  const [concurrency, setConcurrency] = useState("");
  const concurrencyError =
    concurrency.trim() === "" ||
    (/^\d{1,5}$/.test(concurrency.trim()) &&
      Number(concurrency) >= 1 &&
      Number(concurrency) <= 10_000)
      ? null
      : "Enter a whole number of devices from 1 to 10,000, or leave it empty for the default.";
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<string | null>(null);
  const [rotationId, setRotationId] = useState<string | null>(() =>
    sessionStorage.getItem(ROTATION_KEY),
  );
  const list = usePoll(
    () => api<Page<KeyGeneration>>("GET", `/keys${query({ limit: 100 })}`),
    "keys",
    REFRESH_MS,
  );
  const keys = list.data?.items ?? [];
  const current = keys.find((k) => k.status === "CURRENT");
  const refresh = list.refresh;
  const onEnded = useCallback(() => refresh(), [refresh]);

  async function rotate() {
    setStarting(true);
    setStartError(null);
    try {
      const body: RotateRequest = {
        type,
        ...(concurrency.trim() === "" ? {} : { concurrency: Number(concurrency) }),
      };
      const { runId } = await api<{ runId: string }>("POST", "/keys/rotate", body);
      sessionStorage.setItem(ROTATION_KEY, runId);
      setRotationId(runId);
      setConfirming(false);
    } catch (error) {
      setStartError(messageOf(error));
    } finally {
      setStarting(false);
    }
  }

  const typeOptions = KEY_TYPES.map((t) => ({ value: t, label: TYPE_LABELS[t] }));

  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          description={
            current
              ? `Generation ${current.generation} (${current.algorithm}) is current. Earlier generations stay usable for healing until no device holds them.`
              : "The platform key keyheal installs on every device, by generation."
          }
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              <div style={{ minWidth: 200 }}>
                <Select
                  selectedOption={typeOptions.find((o) => o.value === type) ?? null}
                  options={typeOptions}
                  onChange={({ detail }) => setType(detail.selectedOption.value as KeyType)}
                  inlineLabelText="Key type"
                  ariaLabel="Key type"
                />
              </div>
              <Button variant="primary" onClick={() => setConfirming(true)}>
                Rotate key
              </Button>
            </SpaceBetween>
          }
        >
          Platform keys
        </Header>
      }
    >
      <SpaceBetween size="l">
        <ErrorAlert error={list.error} what="Keys" onRetry={list.refresh} />
        {rotationId ? (
          <RotationProgress
            runId={rotationId}
            onEnded={onEnded}
            onDismiss={() => {
              sessionStorage.removeItem(ROTATION_KEY);
              setRotationId(null);
            }}
          />
        ) : null}
        <Table<KeyGeneration>
          variant="container"
          items={keys}
          trackBy={(k) => String(k.generation)}
          columnDefinitions={columns}
          loading={list.loading}
          loadingText="Loading key generations"
          ariaLabels={{ tableLabel: "Platform key generations" }}
          header={
            <Header variant="h2" counter={list.data ? `(${keys.length})` : undefined}>
              Generations
            </Header>
          }
          empty={
            list.error && !list.data ? (
              <LoadFailedState what="Key generations" onRetry={list.refresh} />
            ) : (
              <EmptyState
                title="No platform key yet"
                subtitle="Create the first generation here, or import your own key with keyheal keys import."
                action={<Button onClick={() => setConfirming(true)}>Create the first key</Button>}
              />
            )
          }
        />
        {confirming ? (
          <Modal
            visible
            onDismiss={() => setConfirming(false)}
            closeAriaLabel="Close rotate key"
            header="Rotate the platform key?"
            footer={
              <Box float="right">
                <SpaceBetween direction="horizontal" size="xs">
                  <Button variant="link" onClick={() => setConfirming(false)}>
                    Cancel
                  </Button>
                  <Button
                    variant="primary"
                    loading={starting}
                    loadingText="Starting the rotation"
                    disabled={concurrencyError !== null}
                    onClick={() => void rotate()}
                  >
                    Rotate
                  </Button>
                </SpaceBetween>
              </Box>
            }
          >
            <SpaceBetween size="m">
              <Box variant="p">
                keyheal makes generation {(keys[0]?.generation ?? 0) + 1} ({TYPE_LABELS[type]}),
                installs it on one device first, then on every reachable device. Devices that are
                down keep their key and are healed when they reconnect; no device is locked out.
              </Box>
              <FormField
                label="Concurrency"
                description="Devices installed at once. Empty: 8 in local mode, 100 on AWS."
                errorText={concurrencyError}
              >
                <Input
                  value={concurrency}
                  inputMode="numeric"
                  placeholder="default"
                  ariaLabel="Concurrency"
                  onChange={({ detail }) => setConcurrency(detail.value)}
                />
              </FormField>
              {startError ? (
                <Alert type="error" header="The rotation did not start">
                  {startError}
                </Alert>
              ) : null}
            </SpaceBetween>
          </Modal>
        ) : null}
      </SpaceBetween>
    </ContentLayout>
  );
}
