import type { FlashbarProps } from "@cloudscape-design/components/flashbar";
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";

export interface FlashMessage {
  type: FlashbarProps.Type;
  header?: ReactNode;
  content?: ReactNode;
  action?: ReactNode;
  loading?: boolean;
}

interface Flashes {
  items: FlashbarProps.MessageDefinition[];
  /** Shows (or, with the same id, replaces) a message; returns its id. */
  show(message: FlashMessage, id?: string): string;
  dismiss(id: string): void;
}

const FlashContext = createContext<Flashes | undefined>(undefined);
let counter = 0;
const SUCCESS_MS = 30_000;

export function FlashProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<FlashbarProps.MessageDefinition[]>([]);
  const dismiss = useCallback((id: string) => {
    setItems((list) => list.filter((item) => item.id !== id));
  }, []);
  const show = useCallback(
    (message: FlashMessage, id = `flash-${++counter}`) => {
      const item: FlashbarProps.MessageDefinition = {
        ...message,
        id,
        dismissible: true,
        dismissLabel: "Dismiss message",
        onDismiss: () => dismiss(id),
      };
      setItems((list) => [item, ...list.filter((other) => other.id !== id)].slice(0, 5));
      // Successes fade after a while; errors and warnings stay until dismissed.
      if (message.type === "success") setTimeout(() => dismiss(id), SUCCESS_MS);
      return id;
    },
    [dismiss],
  );
  const value = useMemo(() => ({ items, show, dismiss }), [items, show, dismiss]);
  return <FlashContext.Provider value={value}>{children}</FlashContext.Provider>;
}

export function useFlash(): Flashes {
  const flashes = useContext(FlashContext);
  if (!flashes) throw new Error("useFlash outside FlashProvider");
  return flashes;
}
