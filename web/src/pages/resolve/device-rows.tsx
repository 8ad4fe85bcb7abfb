import Box from "@cloudscape-design/components/box";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Table, { type TableProps } from "@cloudscape-design/components/table";
import { AuthStatusIndicator } from "../../components/display.tsx";
import type { Row } from "./form-checks.ts";
import type { ResolveForm } from "./use-resolve-form.ts";

function columnsFor(form: ResolveForm): TableProps.ColumnDefinition<Row>[] {
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
    rowInput(form, "adminUser", "Device admin", {
      label: "Admin user for",
      required: true,
      autoComplete: false,
    }),
  ];
  if (form.mode !== "space-key") return columns;
  columns.push(
    rowInput(form, "loginUser", "Log in as (optional)", {
      label: "Log in as for",
      placeholder: "the admin user",
      autoComplete: false,
    }),
  );
  if (!form.shareOne) {
    columns.push(
      rowInput(form, "password", "Password", {
        label: "Password for",
        type: "password",
        required: true,
        autoComplete: "off",
      }),
    );
  }
  return columns;
}

/** A column of one text field per device, with the API's or the form's problem under it. */
function rowInput(
  form: ResolveForm,
  field: "adminUser" | "loginUser" | "password",
  header: string,
  input: {
    /** Read before the device id: "Admin user for web-1". */
    label: string;
    type?: "password";
    placeholder?: string;
    required?: boolean;
    autoComplete: boolean | string;
  },
): TableProps.ColumnDefinition<Row> {
  const { problems, updateRow } = form;
  return {
    id: field,
    header,
    cell: (r) => (
      <FormField errorText={problems.rows[r.device.id]?.[field]} stretch>
        <Input
          {...(input.type ? { type: input.type } : {})}
          value={r[field]}
          {...(input.placeholder ? { placeholder: input.placeholder } : {})}
          onChange={({ detail }) => updateRow(r.device.id, { [field]: detail.value })}
          ariaLabel={`${input.label} ${r.device.id}`}
          {...(input.required ? { ariaRequired: true } : {})}
          autoComplete={input.autoComplete}
          invalid={Boolean(problems.rows[r.device.id]?.[field])}
        />
      </FormField>
    ),
  };
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
