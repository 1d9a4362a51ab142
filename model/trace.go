package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Trace is the decoded trace.messages blob (spec §4.3): the conversation,
// one JSON object per line with a role and a content that is either a
// string or structured (content blocks, tool calls).
type Trace struct {
	Messages []Message `json:"messages"`
}

// Message is one turn of the conversation.
type Message struct {
	Role string `json:"role"`
	// Content is the message as text: a string content as is, structured
	// content flattened (text blocks, then one line per tool call or
	// result).
	Content string `json:"content"`
	// Parts are the structured blocks, when the content was not a string.
	Parts []MessagePart `json:"parts,omitempty"`
	// Name is the tool name or tool call ID of a tool message, if given.
	Name string `json:"name,omitempty"`
}

// MessagePart is one content block or tool call.
type MessagePart struct {
	Type  string `json:"type"`            // text, tool_use, tool_result, tool_call, image, ...
	Text  string `json:"text,omitempty"`  // text, or a tool result's output
	Tool  string `json:"tool,omitempty"`  // tool name of a call
	Input string `json:"input,omitempty"` // a call's arguments as compact JSON
}

// Equal reports whether two messages say the same thing (key order and
// formatting of the source lines do not matter).
func (m Message) Equal(o Message) bool {
	return m.Role == o.Role && m.Content == o.Content && m.Name == o.Name && slices.Equal(m.Parts, o.Parts)
}

// ParseTrace decodes a JSONL trace. An empty blob is a trace without
// messages; blank lines are skipped; any line that is not a JSON object
// fails with its line number.
func ParseTrace(b []byte) (*Trace, error) {
	if err := checkSize("trace", b); err != nil {
		return nil, err
	}
	t := &Trace{Messages: []Message{}}
	err := eachLine(b, func(n int, line []byte) error {
		m, err := parseMessage(line)
		if err != nil {
			return fmt.Errorf("trace line %d: %w", n, err)
		}
		t.Messages = append(t.Messages, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

type wireMessage struct {
	Role       json.RawMessage `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  json.RawMessage `json:"tool_calls"`
	Name       json.RawMessage `json:"name"`
	ToolCallID json.RawMessage `json:"tool_call_id"`
}

func parseMessage(line []byte) (Message, error) {
	var w wireMessage
	if err := json.Unmarshal(line, &w); err != nil {
		return Message{}, fmt.Errorf("not a JSON object: %v", err)
	}
	m := Message{Role: jsonString(w.Role), Name: jsonString(w.Name)}
	if m.Name == "" {
		m.Name = jsonString(w.ToolCallID)
	}
	var s string
	switch {
	case len(w.Content) == 0 || string(w.Content) == "null":
	case json.Unmarshal(w.Content, &s) == nil:
		m.Content = s
	default:
		m.Parts = contentParts(w.Content)
	}
	m.Parts = append(m.Parts, toolCalls(w.ToolCalls)...)
	if len(m.Parts) > 0 {
		m.Content = flatten(m.Content, m.Parts)
	}
	return m, nil
}

// contentParts decodes structured content: an array of blocks, or a single
// block object. Unknown blocks keep their JSON as text.
func contentParts(raw json.RawMessage) []MessagePart {
	var blocks []json.RawMessage
	if json.Unmarshal(raw, &blocks) != nil {
		blocks = []json.RawMessage{raw}
	}
	out := make([]MessagePart, 0, len(blocks))
	for _, b := range blocks {
		out = append(out, block(b))
	}
	return out
}

func block(raw json.RawMessage) MessagePart {
	var w struct {
		Type    json.RawMessage `json:"type"`
		Text    json.RawMessage `json:"text"`
		Name    json.RawMessage `json:"name"`
		Input   json.RawMessage `json:"input"`
		Content json.RawMessage `json:"content"`
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return MessagePart{Type: "text", Text: s}
	}
	if json.Unmarshal(raw, &w) != nil {
		return MessagePart{Type: "value", Text: snippet(raw)}
	}
	p := MessagePart{Type: jsonString(w.Type)}
	switch p.Type {
	case "text":
		p.Text = jsonString(w.Text)
	case "tool_use":
		p.Tool, p.Input = jsonString(w.Name), snippet(w.Input)
	case "tool_result":
		p.Text = nestedText(w.Content)
	default:
		p.Text = snippet(raw)
	}
	return p
}

// nestedText is a tool result's content: a string or text blocks.
func nestedText(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) == nil {
		return s
	}
	var texts []string
	for _, p := range contentParts(raw) {
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, "\n")
}

// toolCalls decodes OpenAI-style tool_calls: [{function:{name, arguments}}].
func toolCalls(raw json.RawMessage) []MessagePart {
	var calls []struct {
		Function struct {
			Name      json.RawMessage `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"function"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &calls) != nil {
		return nil
	}
	out := make([]MessagePart, 0, len(calls))
	for _, c := range calls {
		out = append(out, MessagePart{Type: "tool_call", Tool: jsonString(c.Function.Name), Input: jsonString(c.Function.Arguments)})
	}
	return out
}

// flatten renders structured content as text: text blocks as they are,
// tool calls as "→ tool(args)", results as their output.
func flatten(prefix string, parts []MessagePart) string {
	lines := []string{}
	if prefix != "" {
		lines = append(lines, prefix)
	}
	for _, p := range parts {
		switch p.Type {
		case "tool_use", "tool_call":
			lines = append(lines, "→ "+p.Tool+"("+p.Input+")")
		case "tool_result":
			lines = append(lines, "← "+p.Text)
		case "text":
			lines = append(lines, p.Text)
		default:
			lines = append(lines, "["+p.Type+"] "+p.Text)
		}
	}
	return strings.Join(lines, "\n")
}
