"""Work orders (工单): lifecycle, deadlines in Chinese working days, revisits, knowledge base."""
