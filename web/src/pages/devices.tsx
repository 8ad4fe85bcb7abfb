import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import CopyToClipboard from "@cloudscape-design/components/copy-to-clipboard";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table, { type TableProps } from "@cloudscape-design/components/table";
import TextFilter from "@cloudscape-design/components/text-filter";
import { useEffect, useState } from "react";
import { api, query } from "../api/client.ts";
import { AUTH_STATUSES, type AuthStatus, type Device, type Page } from "../api/types.ts";
import { CursorPagination } from "../components/cursor-pagination.tsx";
import { AuthStatusIndicator, Mono, Time } from "../components/display.tsx";
import { EmptyState, ErrorAlert, LoadFailedState } from "../components/states.tsx";
import { useCursorPages } from "../hooks/use-cursor-pages.ts";
import { usePoll } from "../hooks/use-poll.ts";
import { failuresHref } from "../hooks/use-route.ts";
import { AUTH_STATUS, causeLabel, formatTime } from "../labels.ts";
import { ResolveModal } from "./resolve-modal.tsx";

const PAGE_SIZE = 25;
const REFRESH_MS = 3000;
type StatusCounts = Record<AuthStatus, number> & { total: number };

/** Exact counts per auth status, counted by the API on its status index. */
async function countByStatus(): Promise<StatusCounts> {
  const stats = await api<{ total: number; items: Array<{ status: AuthStatus; count: number }> }>(
    "GET",
    "/devices/stats",
  );
  const counts = { total: stats.total } as StatusCounts;
  for (const status of AUTH_STATUSES) {
    counts[status] = stats.items.find((each) => each.status === status)?.count ?? 0;
  }
  return counts;
}

/** Which of the selected devices the resolve action cannot take, and why. */
function resolveBlocker(selected: readonly Device[]): string | undefined {
  if (selected.length === 0) return "Select the devices to resolve.";
  const busy = selected.find((d) => d.status === "RESOLVING");
  if (busy) return `${busy.id} is being resolved already; wait for its run to end.`;
  const hostKey = selected.find((d) => d.status === "HOST_KEY_CONFLICT");
  if (hostKey) {
    return `${hostKey.id} presents a host key that differs from the pinned one; keyheal sends it no credential. Confirm the host and update its pinned fingerprint first.`;
  }
  return undefined;
}

const columns: TableProps.ColumnDefinition<Device>[] = [
  {
    id: "id",
    header: "Device",
    width: 120,
    isRowHeader: true,
    cell: (d) => (
      <div>
        <Box fontWeight="bold">{d.id}</Box>
        {d.instanceId ? (
          <Box variant="small" color="text-body-secondary">
            {d.instanceId}
            {d.region ? ` · ${d.region}` : ""}
          </Box>
        ) : null}
      </div>
    ),
  },
  {
    id: "status",
    header: "Auth status",
    width: 160,
    cell: (d) => <AuthStatusIndicator status={d.status} />,
  },
  {
    id: "lastFailureCause",
    header: "Last failure",
    width: 160,
    cell: (d) =>
      d.lastFailureCause ? (
        <div>
          <Link
            href={failuresHref(d.id)}
            ariaLabel={`${causeLabel(d.lastFailureCause)}: failures of ${d.id}`}
          >
            {causeLabel(d.lastFailureCause)}
          </Link>
          <Box variant="small" color="text-body-secondary">
            {d.lastFailureCause}
          </Box>
        </div>
      ) : (
        "—"
      ),
  },
  { id: "address", header: "Address", width: 130, cell: (d) => `${d.host}:${d.port}` },
  { id: "adminUser", header: "Admin user", width: 100, cell: (d) => d.adminUser },
  {
    id: "keyGeneration",
    header: "Holds key",
    width: 100,
    cell: (d) => (d.keyGeneration === null ? "—" : `Generation ${d.keyGeneration}`),
  },
  {
    id: "lastCheckedAt",
    header: "Last checked",
    width: 130,
    cell: (d) => <Time iso={d.lastCheckedAt} />,
  },
  {
    id: "hostKey",
    header: "Pinned host key",
    width: 150,
    // A fingerprint is 50 characters without a space: it breaks anywhere rather than widen the
    // table past a 1440-pixel window.
    cell: (d) =>
      d.hostKeyFingerprint ? (
        <span style={{ wordBreak: "break-all" }}>
          <Mono>{d.hostKeyFingerprint}</Mono>
        </span>
      ) : (
        "Not pinned yet"
      ),
  },
];

/** What the API's search accepts (lib/api/schemas.ts): the start of an id, host or admin user. */
const SEARCHABLE = /^[A-Za-z0-9._:@-]{1,128}$/;
/** Typing pauses this long before the search is asked of the API. */
const SEARCH_DELAY_MS = 300;

export function DevicesPage() {
  // undefined: not chosen yet; the first counts decide (Key conflict when there are any).
  const [chosenStatus, setStatus] = useState<AuthStatus | null | undefined>(undefined);
  const [search, setSearch] = useState("");
  const [needle, setNeedle] = useState("");
  const [selectedIds, setSelectedIds] = useState<ReadonlySet<string>>(new Set());
  const [resolving, setResolving] = useState<Device[] | null>(null);
  const counts = usePoll(countByStatus, "counts", REFRESH_MS * 3);
  const status =
    chosenStatus !== undefined
      ? chosenStatus
      : counts.data && counts.data.KEY_CONFLICT > 0
        ? "KEY_CONFLICT"
        : null;
  // The landing view is fixed by the first counts; later counts do not move the operator.
  useEffect(() => {
    if (chosenStatus === undefined && counts.data) setStatus(status);
  }, [chosenStatus, counts.data, status]);
  useEffect(() => {
    const timer = setTimeout(() => setNeedle(search.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [search]);
  const searchProblem =
    needle !== "" && !SEARCHABLE.test(needle)
      ? "Search by the start of an ID, host or admin user: letters, digits and . _ : @ - only."
      : undefined;
  const q = needle !== "" && searchProblem === undefined ? needle : null;
  const pages = useCursorPages(`${status ?? "all"}|${q ?? ""}`);
  const ready =
    chosenStatus !== undefined || counts.data !== undefined || counts.error !== undefined;

  const list = usePoll(
    async () => {
      if (!ready) return undefined;
      return api<Page<Device>>(
        "GET",
        `/devices${query({ status, q, limit: PAGE_SIZE, cursor: pages.cursor })}`,
      );
    },
    `${ready}|${status ?? ""}|${q ?? ""}|${pages.cursor ?? ""}`,
    REFRESH_MS,
  );

  // Only the current inputs' answer says where the next page starts.
  const nextCursor = list.data?.nextCursor;
  const { learnNext } = pages;
  useEffect(() => {
    if (nextCursor !== undefined) learnNext(nextCursor);
  }, [nextCursor, learnNext]);

  const items = list.data?.items ?? [];
  const shown = items;
  const selected = items.filter((d) => selectedIds.has(d.id));
  const blocker = resolveBlocker(selected);

  const statusOptions: SelectProps.Option[] = [
    {
      value: "",
      label: "Any status",
      description: counts.data ? `${counts.data.total} devices` : undefined,
    },
    ...AUTH_STATUSES.map((s) => ({
      value: s,
      label: AUTH_STATUS[s].label,
      description: AUTH_STATUS[s].description,
      tags: counts.data ? [String(counts.data[s])] : undefined,
    })),
  ];
  const selectedStatus = statusOptions.find((o) => o.value === (status ?? "")) ?? null;

  const headerCounter = counts.data
    ? status
      ? `(${counts.data[status]}/${counts.data.total})`
      : `(${counts.data.total})`
    : undefined;

  const conflicts = counts.data?.KEY_CONFLICT ?? 0;

  return (
    <SpaceBetween size="m">
      <ErrorAlert error={list.error} what="Devices" onRetry={list.refresh} />
      <Table<Device>
        variant="full-page"
        stickyHeader
        // Fixed, resizable columns add up past a 1440-pixel window with the navigation open;
        // without them the table shares the width out and wraps long cells.
        items={shown}
        trackBy="id"
        columnDefinitions={columns}
        loading={list.loading}
        loadingText="Loading devices"
        selectionType="multi"
        selectedItems={selected}
        onSelectionChange={({ detail }) =>
          setSelectedIds(new Set(detail.selectedItems.map((d) => d.id)))
        }
        wrapLines
        ariaLabels={{
          tableLabel: "Devices",
          selectionGroupLabel: "Device selection",
          allItemsSelectionLabel: ({ selectedItems }) =>
            selectedItems.length === shown.length ? "Deselect all devices" : "Select all devices",
          itemSelectionLabel: (_state, d) => `Select device ${d.id}`,
        }}
        header={
          <Header
            variant="awsui-h1-sticky"
            counter={headerCounter}
            description={
              <>
                {conflicts > 0
                  ? `${conflicts} in key conflict: select them and resolve with the admin password or your own key.`
                  : "Every device keyheal manages and its authentication status."}
                {list.updatedAt
                  ? ` Updated ${formatTime(list.updatedAt.toISOString()).slice(11)}.`
                  : ""}
              </>
            }
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button
                  iconName="refresh"
                  ariaLabel="Refresh devices"
                  onClick={() => {
                    list.refresh();
                    counts.refresh();
                  }}
                />
                <Button
                  variant="primary"
                  disabled={blocker !== undefined}
                  disabledReason={blocker}
                  onClick={() => setResolving(selected)}
                >
                  Resolve key conflict
                </Button>
              </SpaceBetween>
            }
          >
            Devices
          </Header>
        }
        filter={
          <SpaceBetween direction="horizontal" size="xs">
            <div style={{ minWidth: 280 }}>
              <TextFilter
                filteringText={search}
                onChange={({ detail }) => setSearch(detail.filteringText)}
                filteringPlaceholder="Find devices by ID, host or admin user"
                filteringAriaLabel="Find devices by ID, host or admin user"
                filteringClearAriaLabel="Clear search"
                countText={
                  searchProblem ??
                  (q && list.data
                    ? `${shown.length}${list.data.nextCursor ? "+" : ""} ${shown.length === 1 ? "match" : "matches"}`
                    : undefined)
                }
              />
            </div>
            <div style={{ minWidth: 220 }}>
              <Select
                selectedOption={selectedStatus}
                options={statusOptions}
                onChange={({ detail }) => {
                  setStatus((detail.selectedOption.value || null) as AuthStatus | null);
                  setSelectedIds(new Set());
                }}
                inlineLabelText="Auth status"
                ariaLabel="Filter by auth status"
              />
            </div>
          </SpaceBetween>
        }
        pagination={<CursorPagination pages={pages} what="devices" />}
        empty={
          list.error && !list.data ? (
            <LoadFailedState what="Devices" onRetry={list.refresh} />
          ) : needle ? (
            <EmptyState
              title="No matching devices"
              subtitle={
                searchProblem ?? `No device's ID, host or admin user starts with “${needle}”.`
              }
              action={<Button onClick={() => setSearch("")}>Clear search</Button>}
            />
          ) : status ? (
            <EmptyState
              title={`No devices are ${AUTH_STATUS[status].label.toLowerCase()}`}
              subtitle="The list refreshes by itself as devices change status."
              action={<Button onClick={() => setStatus(null)}>Show every status</Button>}
            />
          ) : (
            <EmptyState
              title="No devices registered"
              subtitle="Register devices from an inventory file; keyheal checks them and keeps their keys in agreement."
              action={
                <CopyToClipboard
                  variant="button"
                  copyButtonText="Copy the import command"
                  textToCopy="bin/keyheal devices import fleet.yaml"
                  copySuccessText="Command copied"
                  copyErrorText="Could not copy the command"
                />
              }
            />
          )
        }
      />
      {resolving ? (
        <ResolveModal
          devices={resolving}
          onClose={() => {
            setResolving(null);
            setSelectedIds(new Set());
            list.refresh();
            counts.refresh();
          }}
        />
      ) : null}
    </SpaceBetween>
  );
}
