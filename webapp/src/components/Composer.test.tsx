// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Composer } from "./Composer";

afterEach(cleanup);

const box = () => screen.getByTestId<HTMLTextAreaElement>("composer");
const type = (text: string) => fireEvent.change(box(), { target: { value: text } });

function composer(draftKey: string) {
  const onSend = vi.fn(() => Promise.resolve());
  const view = render(<Composer onSend={onSend} draftKey={draftKey} />);
  return { onSend, switchTo: (key: string) => view.rerender(<Composer onSend={onSend} draftKey={key} />) };
}

describe("Composer", () => {
  it("keeps a draft per conversation", () => {
    const { switchTo } = composer("a");
    type("half a thought for a");
    fireEvent.click(screen.getByTestId("composer-share"));
    switchTo("b");
    expect(box().value).toBe("");
    expect(screen.getByTestId<HTMLInputElement>("composer-share").checked).toBe(false);
    type("something for b");
    switchTo("a");
    expect(box().value).toBe("half a thought for a");
    expect(screen.getByTestId<HTMLInputElement>("composer-share").checked).toBe(true);
    switchTo("b");
    expect(box().value).toBe("something for b");
  });

  it("refuses a control character the function would refuse, and says which", () => {
    const { onSend } = composer("a");
    type("hello\u0007 I feel sad");
    expect(screen.getByTestId<HTMLButtonElement>("send").disabled).toBe(true);
    expect(screen.getByTestId("composer-error").textContent).toBe(
      "Message contains invalid characters (U+0007); remove them to send.",
    );
    fireEvent.keyDown(box(), { key: "Enter" });
    expect(onSend).not.toHaveBeenCalled();
  });

  it("sends the draft of the conversation on screen and empties only that one", () => {
    const { onSend, switchTo } = composer("a");
    type("for a");
    switchTo("b");
    type("for b");
    fireEvent.click(screen.getByTestId("send"));
    expect(onSend).toHaveBeenCalledWith("for b", { share: false });
    expect(box().value).toBe("");
    switchTo("a");
    expect(box().value).toBe("for a");
  });
});
