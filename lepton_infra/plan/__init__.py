"""The offline engine: run a stack's program under Pulumi's mocks, record every resource, check policies."""
