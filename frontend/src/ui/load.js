// useLoad(load, deps): what an async load answered ({data, loading}), loaded again by reload();
// a failed load is said (the dialog's or the page's alert line) and leaves data null.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { say } from "./notices.js";

export function useLoad(load, deps = []) {
  const [state, setState] = useState({ data: null, loading: true });
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, loading: false });
    } catch (error) {
      if (mine === generation.current) { setState({ data: null, loading: false }); say(error.message); }
    }
  }, deps);
  useEffect(() => { reload(); return () => { generation.current += 1; }; }, [reload]);
  return { ...state, reload };
}
