import Box from "@cloudscape-design/components/box";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Table, { type TableProps } from "@cloudscape-design/components/table";
import { AuthStatusIndicator } from "../../components/display.tsx";
import type { Row } from "./form-checks.ts";
import type { ResolveForm } from "./use-resolve-form.ts";

function columnsFor(form: ResolveForm): TableProps.ColumnDefinition<Row>[] {
  const { problems, updateRow } = form;
  const columns: TableProps.ColumnDefinition<Row>[] = [
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
            onChange={({ detail }) => updateRow(r.device.id, { adminUser: detail.value })}
            ariaLabel={`Admin user for ${r.device.id}`}
            ariaRequired
            autoComplete={false}
            invalid={Boolean(problems.rows[r.device.id]?.adminUser)}
          />
        </FormField>
      ),
    },
  ];
  if (form.mode !== "space-key") return columns;
  columns.push({
    id: "loginUser",
    header: "Log in as (optional)",
    cell: (r) => (
      <FormField errorText={problems.rows[r.device.id]?.loginUser} stretch>
        <Input
          value={r.loginUser}
          placeholder="the admin user"
          onChange={({ detail }) => updateRow(r.device.id, { loginUser: detail.value })}
          ariaLabel={`Log in as for ${r.device.id}`}
          autoComplete={false}
          invalid={Boolean(problems.rows[r.device.id]?.loginUser)}
        />
      </FormField>
    ),
  });
  if (!form.shareOne) {
    columns.push({
      id: "password",
      header: "Password",
      cell: (r) => (
        <FormField errorText={problems.rows[r.device.id]?.password} stretch>
          <Input
            type="password"
            value={r.password}
            onChange={({ detail }) => updateRow(r.device.id, { password: detail.value })}
            ariaLabel={`Password for ${r.device.id}`}
            ariaRequired
            autoComplete="off"
            invalid={Boolean(problems.rows[r.device.id]?.password)}
          />
        </FormField>
      ),
    });
  }
  return columns;
}

/**
 * The devices to resolve, one row each: its admin user, and in Space key mode whom to log in as
 * and its password (unless one password serves every device).
 */
export function DeviceRows({ form }: { form: ResolveForm }) {
  return (
    <Table<Row>
      variant="embedded"
      items={form.rows}
      trackBy={(r) => r.device.id}
      columnDefinitions={columnsFor(form)}
      ariaLabels={{ tableLabel: "Devices to resolve" }}
      header={
        <Header variant="h3" counter={`(${form.rows.length})`}>
          Devices to resolve
        </Header>
      }
    />
  );
}
